process SPLAMFLOW_PROJECT {
    tag "${meta.id}"
    label 'process_single'

    conda "${moduleDir}/environment.yml"
    container 'ghcr.io/splamflow/splamflow:0.1.0'

    input:
    // `samples`: the metas of the junction BEDs, in the same order; output i is <samples[i].id>.scores.bed.
    // Staging names the BEDs by list position, so that equal file names cannot clash.
    tuple val(meta), val(samples), path(junctions, stageAs: 'samples/sample_??????.bed'), path(union, stageAs: 'union/*'), path(scores, stageAs: 'scores/*')

    output:
    tuple val(meta), path("*.scores.bed"), emit: bed
    tuple val("${task.process}"), val('splamflow'), eval("splam_score.py --version | cut -d ' ' -f 2"), emit: versions_splamflow, topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    def outputs = samples.collect { sample -> "${sample.id}.scores.bed" }.join(' ')
    """
    splam_score.py project \\
        ${junctions} \\
        --union ${union} \\
        --scores ${scores} \\
        -o ${outputs} \\
        ${args}
    """

    stub:
    def args = task.ext.args ?: ''
    def outputs = samples.collect { sample -> "${sample.id}.scores.bed" }.join(' ')
    """
    echo "${args}"
    touch ${outputs}
    """
}

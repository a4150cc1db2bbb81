process SPLAMFLOW_PREPAREGENOME {
    tag "${meta.id}"
    label 'process_single'

    conda "${moduleDir}/environment.yml"
    container 'ghcr.io/splamflow/splamflow:0.1.0'

    input:
    tuple val(meta), path(fasta)

    output:
    tuple val(meta), path("prepared/${fasta.name}"), path("prepared/${fasta.name}.{fai,gzi}"), emit: fasta
    tuple val("${task.process}"), val('splamflow'), eval("splam_score.py --version | cut -d ' ' -f 2"), emit: versions_splamflow, topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    // the FASTA keeps its name (a .gz one is written bgzip, any other plain), in a folder beside
    // the staged input of that name
    """
    mkdir prepared
    splam_score.py prepare-genome \\
        ${fasta} \\
        -o prepared/${fasta.name} \\
        ${args}
    """

    stub:
    def args = task.ext.args ?: ''
    def gzi = fasta.name.endsWith('.gz') ? "prepared/${fasta.name}.gzi" : ''
    """
    echo "${args}"
    mkdir prepared
    touch prepared/${fasta.name} prepared/${fasta.name}.fai ${gzi}
    """
}

process SPLAMFLOW_CLEAN {
    tag "${meta.id}"
    label 'process_low'

    conda "${moduleDir}/environment.yml"
    container 'ghcr.io/splamflow/splamflow:0.1.0'

    input:
    tuple val(meta), path(input), path(index), path(scores)
    tuple val(meta2), path(fasta), path(fasta_index)

    output:
    tuple val(meta), path("*.cleaned.bam")           , emit: bam          , optional: true
    tuple val(meta), path("*.cleaned.bam.bai")       , emit: bai          , optional: true
    tuple val(meta), path("*.discarded.bam")         , emit: discarded    , optional: true
    tuple val(meta), path("*.discarded.bam.bai")     , emit: discarded_bai, optional: true
    tuple val(meta), path("*.clean_stats_mqc.tsv")   , emit: mqc          , optional: true
    tuple val(meta), path("*.score_histogram_mqc.json"), emit: score_histogram, optional: true
    tuple val(meta), path("*.cleaned.{gtf,gff3,gff}"), emit: annotation   , optional: true
    tuple val(meta), path("*.transcripts.tsv")       , emit: report       , optional: true
    tuple val(meta), path("*.clean_stats.json")      , emit: stats
    tuple val(meta), path("*.clean.png")             , emit: plot
    tuple val("${task.process}"), val('splamflow'), eval("splam_score.py --version | cut -d ' ' -f 2"), emit: versions_splamflow, topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    def annotation_ext = (input.name - ~/\.gz$/).tokenize('.').last()
    // the genome gives unstranded records their intron motif's strand (--infer-strand auto, the
    // default, or motif); the CLI refuses --genome with --infer-strand none (in any spelling argparse accepts)
    def genome = fasta && !(args =~ /--infer-strand(=|\s+)none\b/).find() ? "--genome ${fasta}" : ''
    if (annotation_ext in ['gtf', 'gff', 'gff3']) {
        """
        splam_score.py clean \\
            ${input} \\
            --scores ${scores} \\
            -o ${prefix}.cleaned.${annotation_ext} \\
            --report ${prefix}.transcripts.tsv \\
            --stats ${prefix}.clean_stats.json \\
            --plot ${prefix}.clean.png \\
            ${args}
        """
    } else {
        """
        splam_score.py clean \\
            ${input} \\
            --scores ${scores} \\
            -o ${prefix}.cleaned.bam \\
            --discarded ${prefix}.discarded.bam \\
            --threads ${task.cpus} \\
            --stats ${prefix}.clean_stats.json \\
            --stats-tsv ${prefix}.clean_stats_mqc.tsv \\
            --score-histogram ${prefix}.score_histogram_mqc.json \\
            --sample ${prefix} \\
            --plot ${prefix}.clean.png \\
            ${genome} \\
            ${args}
        """
    }

    stub:
    def args = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    def annotation_ext = (input.name - ~/\.gz$/).tokenize('.').last()
    if (annotation_ext in ['gtf', 'gff', 'gff3']) {
        """
        echo "${args}"
        touch ${prefix}.cleaned.${annotation_ext}
        touch ${prefix}.transcripts.tsv
        echo '{}' > ${prefix}.clean_stats.json
        touch ${prefix}.clean.png
        """
    } else {
        """
        echo "${args}"
        touch ${prefix}.cleaned.bam ${prefix}.cleaned.bam.bai
        touch ${prefix}.discarded.bam ${prefix}.discarded.bam.bai
        touch ${prefix}.clean_stats_mqc.tsv ${prefix}.score_histogram_mqc.json
        echo '{}' > ${prefix}.clean_stats.json
        touch ${prefix}.clean.png
        """
    }
}

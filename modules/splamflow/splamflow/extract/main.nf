process SPLAMFLOW_EXTRACT {
    tag "${meta.id}"
    label 'process_low'
    // Sized by the input (a process_low selector of the pipeline that installs this module takes
    // precedence; splamflow's conf/base.config sets none): 2 CPUs up to 2 GB, 4 up to 20 GB, 8 beyond
    // (worker processes, --threads); memory and time grow with them and double on a retry.
    cpus   { input.size() < 2e9 ? 2 : input.size() < 2e10 ? 4 : 8 }
    memory { (4.GB + 1.GB * task.cpus) * task.attempt }
    time   { (2.h + 1.h * Math.ceil(input.size() / 1e10)) * task.attempt }

    conda "${moduleDir}/environment.yml"
    container 'ghcr.io/splamflow/splamflow:0.1.0'

    input:
    tuple val(meta), path(input), path(index)
    tuple val(meta2), path(fasta), path(fasta_index)

    output:
    tuple val(meta), path("*.junctions.bed")    , emit: bed
    tuple val(meta), path("*.intron_counts.tsv"), emit: intron_counts, optional: true
    tuple val("${task.process}"), val('splamflow'), eval("splam_score.py --version | cut -d ' ' -f 2"), emit: versions_splamflow, topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    def is_annotation = input.name ==~ /.+\.(gtf|gff|gff3)(\.gz)?$/
    // the genome gives unstranded records their intron motif's strand (--infer-strand auto, the
    // default, or motif); the CLI refuses --genome with --infer-strand none (in any spelling argparse accepts)
    def genome = fasta && !(args =~ /--infer-strand(=|\s+)none\b/).find() ? "--genome ${fasta}" : ''
    // a CRAM is decoded against the genome it was compressed with: the pipeline's FASTA
    def reference = fasta && input.name.endsWith('.cram') ? "--reference ${fasta}" : ''
    if (is_annotation) {
        """
        splam_score.py extract \\
            ${input} \\
            -o ${prefix}.junctions.bed \\
            --intron-counts ${prefix}.intron_counts.tsv \\
            ${args}
        """
    } else {
        """
        splam_score.py extract \\
            ${input} \\
            -o ${prefix}.junctions.bed \\
            --threads ${task.cpus} \\
            ${genome} \\
            ${reference} \\
            ${args}
        """
    }

    stub:
    def args = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    def is_annotation = input.name ==~ /.+\.(gtf|gff|gff3)(\.gz)?$/
    """
    echo "${args}"
    touch ${prefix}.junctions.bed
    if [ "${is_annotation}" = "true" ]; then
        touch ${prefix}.intron_counts.tsv
    fi
    """
}
